/**
 * Passwords seen most often in public breach corpora and in Russian-language lists, and words
 * that are guessable for this service. Checked case-insensitively, also as the core word of a
 * password with digits and symbols around it (Qwerty123! → qwerty).
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  `
  123456 123456789 12345678 password qwerty 111111 12345 1234567 1234567890 qwerty123 000000
  abc123 password1 iloveyou 123123 qwertyuiop 654321 666666 987654321 123321 7777777 1q2w3e4r
  1q2w3e4r5t 1qaz2wsx zaq12wsx qazwsx qwe123 asdfgh zxcvbnm 121212 112233 555555 159753 1234qwer
  qwerty1 admin administrator letmein welcome monkey dragon master sunshine princess football
  baseball shadow superman batman michael jennifer trustno1 passw0rd p@ssw0rd p@ssword pa$$word
  passport password123 changeme secret hello login default test test123 guest root toor user
  mypassword freedom whatever starwars loveme lovely charlie donald killer pokemon samsung
  computer internet parol parol123 privet privetik ljubov lubov lyubov natasha natalia nastya
  anastasia tatiana svetlana olga elena irina marina andrey sergey aleksandr alexander alexey
  dmitriy vladimir maksim maxim ivan mikhail artem denis nikita zenit spartak cska dinamo
  lokomotiv rossiya russia moskva moscow piter kisa zaika solnce solnyshko kotik 1q2w3e
  1q2w3e4r5t6y 1qazxsw2 qweasdzxc qweasd asdasd zxczxc йцукен йцукен123 пароль пароль123 привет
  любовь наташа солнышко котик 11111111 22222222 88888888 99999999 00000000 12341234 11223344
  13579 24680 147258369 789456123 456789 98765432 vkhod gosuslugi esia госуслуги вход
`
    .trim()
    .split(/\s+/),
);
