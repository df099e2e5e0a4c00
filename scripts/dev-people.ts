/**
 * Made-up people for development and tests (docs/federation.md lists them): the development
 * bank's customers and the holders of the test CA's certificates. SNILS and INN have valid check
 * digits; Иван Петров is both a bank customer and a certificate holder, so both ways lead to the
 * same account.
 */

export interface BankCustomer {
  /** the bank's subject (`sub`) */
  id: string;
  family_name: string;
  given_name: string;
  middle_name?: string;
  birthdate: string;
  snils?: string;
  inn?: string;
  passport?: { series: string; number: string; issue_date: string; issuer: string; department_code: string };
  phone_number?: string;
  phone_number_verified?: boolean;
  email?: string;
  email_verified?: boolean;
}

export const BANK_CUSTOMERS: BankCustomer[] = [
  {
    id: 'cust-1001',
    family_name: 'Петров',
    given_name: 'Иван',
    middle_name: 'Сергеевич',
    birthdate: '1985-03-14',
    snils: '112-233-445 95',
    inn: '770123456703',
    passport: {
      series: '4510',
      number: '123456',
      issue_date: '2005-04-01',
      issuer: 'ОВД района Хамовники г. Москвы',
      department_code: '770-001',
    },
    phone_number: '+79161234567',
    phone_number_verified: true,
    email: 'ivan.petrov@example.ru',
    email_verified: true,
  },
  {
    id: 'cust-1002',
    family_name: 'Смирнова',
    given_name: 'Ольга',
    middle_name: 'Николаевна',
    birthdate: '1990-07-21',
    snils: '156-789-012 11',
    inn: '770234567818',
    passport: {
      series: '4612',
      number: '654321',
      issue_date: '2010-08-15',
      issuer: 'ТП УФМС России по Московской обл. в г. Химки',
      department_code: '500-101',
    },
    phone_number: '+79031112233',
    phone_number_verified: true,
    email: 'olga.smirnova@example.ru',
    email_verified: false,
  },
  {
    id: 'cust-1003',
    family_name: 'Кузнецов',
    given_name: 'Алексей',
    middle_name: 'Викторович',
    birthdate: '1978-11-02',
    passport: {
      series: '4003',
      number: '112233',
      issue_date: '2003-02-10',
      issuer: 'Отделом милиции № 12 г. Санкт-Петербурга',
      department_code: '780-012',
    },
    phone_number: '+79219876543',
    phone_number_verified: false,
  },
];

export interface CertificateHolder {
  file: string;
  family: string;
  /** "Имя Отчество", as the givenName of a Russian qualified certificate holds it */
  given: string;
  snils: string;
  inn: string;
  kind: 'rsa' | 'ecdsa';
}

export const CERTIFICATE_HOLDERS: CertificateHolder[] = [
  { file: 'citizen-rsa', family: 'Петров', given: 'Иван Сергеевич', snils: '11223344595', inn: '770123456703', kind: 'rsa' },
  { file: 'citizen-ecdsa', family: 'Морозова', given: 'Елена Игоревна', snils: '19876543247', inn: '500345678979', kind: 'ecdsa' },
];
